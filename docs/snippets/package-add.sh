# Try it from a checkout of this repository, before anything is published:
cd examples/typescript
pulumi package add ../../package   # a local path: ./, ../ or /
npm install
pulumi stack init dev
pulumi preview

# From git, pinned to a tag of your copy of this repository:
pulumi package add github.com/your-org/omnia-agents/package@v0.1.0
