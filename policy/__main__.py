"""omnia-agents policy pack: `pulumi preview --policy-pack policy/` from any project.

The CLI runs this with `python -m pulumi.policy` from this folder, on `policy/venv`, which has
the project installed from the checkout (`requirements.txt`: `-e ..`): keep the pack inside it.
"""

from policy.pack import policy_pack

policy_pack()
