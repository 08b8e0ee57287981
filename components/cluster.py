"""The cluster as the program sees it: its own Kubernetes provider and the Omnia CRD it serves.

Read at preview, so a cluster without the operator fails `pulumi preview` instead of `pulumi up`
failing after Redis is built, and agents are judged against the CRD the cluster really serves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from upstream.agent_runtime import CRD_NAME
from upstream.kubernetes import CRD

if TYPE_CHECKING:
    from settings.models import StackConfig


class Existing(pulumi.CustomResource):
    """A read (`get`) of an object that must already exist, its outputs left as the API
    server's JSON.

    The SDK's typed classes rename keys on the way out (a CRD's `openAPIV3Schema` becomes
    `open_apiv3_schema`), which the CRD checker cannot judge, and importing them costs a
    memory-only stack a quarter second (`pulumi_kubernetes.core.v1`); an untyped read of the
    same type token avoids both.
    """

    spec: pulumi.Output[Any]

    def __init__(self, type_: str, name: str, id_: str, opts: pulumi.ResourceOptions) -> None:
        read = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id_))
        super().__init__(type_, name, {"spec": None}, read)


def _judge(config: StackConfig | None, spec: Any) -> None:
    """Fail the program with the checker's lines when the served CRD would prune or reject."""
    if config is None:
        return  # a store on its own: the CRD must be served, there are no agents to judge
    if spec is None:
        # Only the offline plan answers a read without the object (no CRD file given).
        pulumi.log.debug(f"{CRD_NAME}: served schema not known; agents not judged")
        return
    from settings.conformance import require_fit
    from settings.errors import CrdMismatch  # jsonschema and CEL only when judged
    from upstream.crd_judge import Crd, CrdFileError

    served = f"the CRD the cluster serves ({CRD_NAME})"
    try:
        crd = Crd.from_object({"kind": "CustomResourceDefinition", "spec": spec}, CRD_NAME)
    except CrdFileError as err:  # a CRD without schemas: nothing to judge against
        raise CrdMismatch(served, [str(err)]) from None
    require_fit(crd, served, config)


class Cluster(pulumi.ComponentResource):
    """The provider every Kubernetes object of the stack uses, and the served Omnia CRD."""

    provider: k8s.Provider
    crd: Existing
    # Resolves to the CRD read once every agent conforms to it (and every gate passed).
    # Everything the stack creates depends on it, so nothing (no Redis, no Secret, no agent) is
    # sent to the engine when a judgement fails: `pulumi up` stops before it changes the cluster.
    agents_ready: pulumi.Output[pulumi.Resource]

    def __init__(
        self,
        name: str,
        kube_context: str | None,
        agents: StackConfig | None = None,
        opts: pulumi.ResourceOptions | None = None,
        gates: Sequence[pulumi.Output[Any]] = (),
    ) -> None:
        """`agents`: the stack whose AgentRuntimes are judged against the served CRD. `gates`:
        other verdicts everything waits for (an external store's URL judged once known,
        components/external_store.py); their dependencies become everything's too."""
        super().__init__("omnia-agents:index:Cluster", name, None, opts)
        # Secret data changes are updates, not replacements, only with enableSecretMutable:
        # pulumi-kubernetes provider/pkg/provider/diff.go forceNewProperties adds `.type`,
        # `.stringData`, `.data` of a Secret to the replace keys unless it is set (its
        # diff_test.go: "Secret resources don't trigger a replace when mutable"). Set here,
        # not in a stack file, so no stack can forget it. An explicit provider ignores
        # `kubernetes:*` stack config, so the context is passed through.
        self.provider = k8s.Provider(
            f"{name}-provider",
            context=kube_context,
            enable_secret_mutable=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.crd = Existing(
            CRD,
            f"{name}-crd",
            CRD_NAME,
            pulumi.ResourceOptions(parent=self, provider=self.provider),
        )
        crd = self.crd

        def judged(spec: Any) -> pulumi.Resource:
            _judge(agents, spec)
            return crd

        ready = self.crd.spec.apply(judged)
        if gates:
            # Apart from the CRD's verdict, which is still judged at preview when a gate is
            # unknown there; the CRD read stays among the dependencies (an Output's resources
            # count as dependencies even while its value is unknown: pulumi
            # sdk/python/lib/pulumi/runtime/_depends_on.py).
            ready = pulumi.Output.all(ready, *gates).apply(lambda verdicts: verdicts[0])
        self.agents_ready = ready
        self.register_outputs({})
