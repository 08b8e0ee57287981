venv/bin/python plan.py --stack-file examples/stacks/Pulumi.first.yaml
kubectl get crd agentruntimes.omnia.altairalabs.ai -o yaml > crds/agentruntimes.yaml
venv/bin/python plan.py --stack-file examples/stacks/Pulumi.first.yaml --crd crds/agentruntimes.yaml
