venv/bin/python plan.py prod --policy             # prod's plan through the pack: passes, exit 0
venv/bin/python plan.py --stack-file docs/snippets/Pulumi.prod-scratch.yaml --policy   # exit 1
helm pull oci://registry-1.docker.io/bitnamicharts/redis --version 23.1.1 --destination charts
venv/bin/python plan.py prod --policy --render    # the chart's objects judged too: an advisory, exit 0
