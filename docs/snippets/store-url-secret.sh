pulumi config set --secret --path 'omnia-agents:stores.managed.url' 'rediss://omnia-agents:<password>@cache.example.com:6380/0'
