// omnia-agents from TypeScript. In this folder, once:
//   pulumi package add ../../package     (or github.com/your-org/omnia-agents/package@v0.1.0)
// It generates the SDK under sdks/omnia-agents, which package.json names; then npm install and
// pulumi up.
import * as omnia from "@pulumi/omnia-agents";

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
    ],
};

const sessions = new omnia.SessionAgents("sessions", args);

export const agents = sessions.agents;
export const redisHost = sessions.redisHost;
export const redisUrl = sessions.redisUrl; // a secret: pulumi stack output redisUrl --show-secrets
