cp examples/stacks/Pulumi.first.yaml stacks/Pulumi.first.yaml
pulumi login --local
pulumi stack init first
pulumi preview
pulumi up
