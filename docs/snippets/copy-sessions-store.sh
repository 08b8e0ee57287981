kubectl -n redis get pods -l isMaster=true                                # the old master's pod (Sentinel)
kubectl label namespace redis omnia-agents/redis-client-tenant-b=true     # the new store admits it
kubectl -n redis exec -i <pod> -c redis -- bash -s -- redis-tenant-b-master.redis-tenant-b.svc 6379 "$(kubectl -n redis-tenant-b get secret redis-auth -o jsonpath='{.data.redis-password}' | base64 -d)" < docs/snippets/copy-sessions.bash
kubectl label namespace redis omnia-agents/redis-client-tenant-b-         # once copied
