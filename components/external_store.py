"""An external session store (a managed Redis, or one run by another team): no resources.

The program deploys nothing for it: no chart, no password, no namespace, no NetworkPolicy. Its
URL (a Pulumi secret) goes into the credentials Secret of each agent namespace that uses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi

from upstream.agent_runtime import credentials_digest
from upstream.store_url import judge_store_url
from upstream.stores import credentials_secret

if TYPE_CHECKING:
    from settings.models import StackConfig

# Where a URL given in clear stays in clear: the consuming program's source, or the state of the
# resource whose output it is. Not this component's state: the engine keeps only a remote
# component's URN and outputs (pulumi/pulumi pkg/resource/deploy/source_eval.go RegisterResource,
# `remote`: `State{URN, Outputs}`), SessionAgents registers no props, and its Secret and
# `storeUrls` hold the URL as a secret.
NOT_SECRET = (
    "is not a secret: its password is in clear wherever your program holds it (its source, or "
    "the state of the resource whose output it is); the component keeps it secret from here "
    "on, but pass it as one (pulumi.secret(...), or an output that is one, as a generated "
    "password makes it)"
)


class ExternalStore:
    """What an agent namespace needs of a store, for one given by its URL."""

    def __init__(self, store: str, url: pulumi.Input[str]) -> None:
        secret = pulumi.Output.secret(url)  # secret everywhere, whatever the caller passed
        self.url: pulumi.Output[str] = secret
        self.stamp: pulumi.Output[str] = pulumi.Output.unsecret(secret.apply(credentials_digest))
        self.redis_namespace: str | None = None
        self.owned_namespace: pulumi.Resource | None = None
        self.secret_name = credentials_secret(store)
        self.client_label: str | None = None  # nothing in the cluster to admit anyone
        self.ready: list[pulumi.Resource] = []


def later_urls(
    config: StackConfig, parent: pulumi.Resource | None
) -> tuple[dict[str, pulumi.Output[str]], list[pulumi.Output[Any]]]:
    """Each store URL that is an Output (the package's SessionAgents: a managed cache made in
    the same program), judged as a stack file's is, once its value is known.

    Returns the judged URLs by store, and the gates the stack's every resource waits for (the
    Cluster's `agents_ready`): a URL the targeted release's runtime would refuse fails them,
    as the served CRD's verdict does, so `pulumi up` creates nothing of the component before
    it stops. Unknown at preview (the cache not created yet), nothing is judged there; `up`
    judges it as soon as the cache gives it. Never printed: the problems and warnings of
    `judge_store_url` do not quote the URL, and the Secret gets it as a secret."""
    from settings.package_args import arg_path, later_refusal

    urls: dict[str, pulumi.Output[str]] = {}
    gates: list[pulumi.Output[Any]] = []
    version = config.omnia_version
    for name, store in config.stores.items():
        if not isinstance(store.url, pulumi.Output) or version is None:
            continue  # a string was judged with the stack; no release: refused there
        path = ("stores", name, "url")
        used = bool(config.store_namespaces(name))

        def judged(value: Any, path: tuple[str, str, str] = path, used: bool = used) -> str:
            if not isinstance(value, str):
                raise later_refusal("SessionAgents", path, ["must be a string (a Redis URL)"])
            verdict = judge_store_url(value, str(version))
            if verdict.problems:
                raise later_refusal("SessionAgents", path, list(verdict.problems))
            for warning in verdict.warnings if used else ():
                pulumi.log.warn(f"{arg_path(path)}: {warning}", resource=parent)
            return value

        def clear(secret: bool, path: tuple[str, str, str] = path) -> bool:
            if not secret:
                pulumi.log.warn(f"{arg_path(path)} {NOT_SECRET}", resource=parent)
            return True

        urls[name] = store.url.apply(judged)
        # Plain: the verdict, never the URL. Its secretness is known even where its value is not.
        gates.append(pulumi.Output.unsecret(urls[name].apply(lambda _: True)))
        secret: pulumi.Output[bool] = pulumi.Output.from_input(store.url.is_secret())
        gates.append(secret.apply(clear))
    return urls, gates
