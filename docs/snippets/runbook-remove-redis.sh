pulumi state unprotect 'urn:pulumi:prod::omnia-agents::omnia-agents:index:RedisStore$random:index/randomId:RandomId::redis-data-guard'
pulumi up
