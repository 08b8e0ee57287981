// omnia-agents from TypeScript. In this folder, once:
//   pulumi package add ../../package     (or github.com/your-org/omnia-agents/package@v0.1.0)
// It generates the SDK under sdks/omnia-agents, which package.json names; then npm install and
// pulumi up.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as omnia from "@pulumi/omnia-agents";

// A managed Redis made in this program gives its URL as an output, known once the cache
// exists. Here a generated token and a fixed host stand in for one: an
// aws.elasticache.ReplicationGroup with transitEncryptionEnabled and an authToken gives
// rediss://:<authToken>@<primaryEndpointAddress>:6379, interpolated from its outputs the same
// way. The URL is judged as the agents' Omnia release reads it once known (at pulumi up if the
// cache is new), before anything of SessionAgents is created; it stays a secret, as the token is.
const cacheToken = new random.RandomPassword("cache-token", { length: 32, special: false });
const cacheUrl = pulumi.interpolate`rediss://:${cacheToken.result}@cache.example.com:6380/0`;

const args: omnia.SessionAgentsArgs = {
    omniaVersion: "0.9.0-beta.17",
    session: { type: "redis", ttl: "24h" },
    redis: {
        chartVersion: "23.1.1",
        architecture: "replication",
        sentinel: true,
        replicas: 3,
        protect: true,
        images: {
            redis: { registry: "docker.io", repository: "bitnamilegacy/redis", tag: "8.2.1-debian-12-r0" },
            sentinel: { registry: "docker.io", repository: "bitnamilegacy/redis-sentinel", tag: "8.2.1-debian-12-r0" },
            kubectl: { registry: "docker.io", repository: "bitnamilegacy/kubectl", tag: "1.33.4-debian-12-r0" },
        },
    },
    // `redis` above is the in-cluster store `default`; this one is external.
    stores: { managed: { url: cacheUrl } },
    agents: [
        {
            name: "support",
            namespace: "agents",
            spec: { promptPackRef: { name: "customer-support" }, facades: [{ type: "websocket" }] },
        },
        {
            name: "billing",
            namespace: "finance",
            session: { ttl: "2h" },
            spec: { promptPackRef: { name: "billing-assistant" }, facades: [{ type: "websocket", port: 8080 }] },
        },
        {
            name: "faq",
            namespace: "public",
            session: { store: "managed" },
            spec: { promptPackRef: { name: "faq" }, facades: [{ type: "websocket" }] },
        },
    ],
};

const sessions = new omnia.SessionAgents("sessions", args);

export const agents = sessions.agents;
export const redisHost = sessions.redisHost;
export const redisUrl = sessions.redisUrl; // a secret: pulumi stack output redisUrl --show-secrets
export const stores = sessions.stores; // each store: its kind, agent namespaces and Secret
