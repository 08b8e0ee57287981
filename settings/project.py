"""The project's own names, as Pulumi.yaml and the stack files spell them."""

PROJECT = "omnia-agents"  # Pulumi.yaml `name`: the config namespace and the component package
STACK_CONFIG_DIR = "stacks"  # Pulumi.yaml `stackConfigDir`; a test keeps the two in step
