# the CRD of your cluster
kubectl get crd agentruntimes.omnia.altairalabs.ai -o yaml > crds/agentruntimes.yaml
# or the one of a release: config/crd/bases/omnia.altairalabs.ai_agentruntimes.yaml at its tag
# in github.com/AltairaLabs/Omnia

venv/bin/python plan.py prod --crd crds/agentruntimes.yaml
venv/bin/python plan.py --stack-file examples/stacks/Pulumi.first-beta16.yaml --crd crds/agentruntimes.yaml  # exit 1
