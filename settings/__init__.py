"""Stack settings: Pulumi config (or package args) turned into validated, frozen models.

`loader.load_stack_config` is the one place the program reads config; everything downstream
takes the models in `models`. A bad stack file fails here, before any resource is registered,
with one line per problem naming the stack file and the key.
"""
