venv/bin/python plan.py --stack-file edited/Pulumi.prod.yaml --from stacks/Pulumi.prod.yaml
venv/bin/python plan.py --stack-file edited/Pulumi.prod.yaml --from stacks/Pulumi.prod.yaml --all
venv/bin/python plan.py --stack-file edited/Pulumi.prod.yaml --from stacks/Pulumi.prod.yaml --format json
