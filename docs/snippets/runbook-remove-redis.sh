pulumi state unprotect 'urn:pulumi:prod::omnia-agents::omnia-agents:index:RedisStore$random:index/randomId:RandomId::redis-data-guard'
pulumi state unprotect 'urn:pulumi:prod::omnia-agents::omnia-agents:index:RedisStore$kubernetes:core/v1:Namespace::redis-namespace'   # with redis.protect: true
pulumi up
