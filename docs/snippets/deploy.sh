pulumi login --local                       # state in ~/.pulumi; secrets need a passphrase:
export PULUMI_CONFIG_PASSPHRASE='...'      # keep it somewhere safe
pulumi stack init dev                      # uses the existing stacks/Pulumi.dev.yaml
pulumi config set kubernetes:context my-cluster   # optional: otherwise the current context
pulumi preview                             # review
pulumi up
