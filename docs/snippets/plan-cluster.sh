venv/bin/python plan.py prod --crd crds/agentruntimes.yaml   # the cluster serves this CRD
venv/bin/python plan.py prod --cluster cluster.yaml          # namespaces that exist, its CRD
