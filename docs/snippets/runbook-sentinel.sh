pulumi state delete 'urn:pulumi:prod::omnia-agents::omnia-agents:index:RedisStore$kubernetes:helm.sh/v4:Chart$kubernetes:apps/v1:StatefulSet::redis:redis/redis-node'   # Pulumi forgets it; it keeps running
pulumi config set --path omnia-agents:redis.sentinel false
pulumi state unprotect 'urn:pulumi:prod::omnia-agents::omnia-agents:index:RedisStore$random:index/randomId:RandomId::redis-data-guard'
pulumi up
