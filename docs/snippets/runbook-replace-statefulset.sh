kubectl -n redis delete statefulset redis-node --cascade=orphan   # its pods and claims stay
pulumi state unprotect 'urn:pulumi:prod::omnia-agents::omnia-agents:index:RedisStore$random:index/randomId:RandomId::redis-data-guard'   # only when its keepers change too
pulumi refresh --yes --target 'urn:pulumi:prod::omnia-agents::omnia-agents:index:RedisStore$kubernetes:helm.sh/v4:Chart$kubernetes:apps/v1:StatefulSet::redis:redis/redis-node'
pulumi up
