make helm                                         # the pinned Helm 3 CLI, into .tools/helm
venv/bin/python plan.py prod --render             # exit 2: no chart in charts/ yet, says how to fetch it
helm pull oci://registry-1.docker.io/bitnamicharts/redis --version 23.1.1 --destination charts
venv/bin/python plan.py prod --render --format json
venv/bin/python plan.py --stack-file edited/Pulumi.prod.yaml --from stacks/Pulumi.prod.yaml --render
