make install                                   # also creates policy/venv (its own: see below)
pulumi preview --policy-pack /path/to/omnia-agents/policy \
               --policy-pack-config /path/to/omnia-agents/policy/config.json
