venv/bin/python plan.py dev                      # YAML stream for people, a summary last
venv/bin/python plan.py prod --format json       # one JSON array, each item with its URN
venv/bin/python plan.py --stack-file examples/stacks/Pulumi.first.yaml
venv/bin/python plan.py prod --show-secrets      # print secret values instead of [secret]
