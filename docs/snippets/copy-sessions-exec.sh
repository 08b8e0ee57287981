kubectl -n redis get pods -l isMaster=true                    # the old master's pod (Sentinel)
kubectl -n redis exec -i <pod> -c redis -- bash -s -- redis-master.<namespace>.svc 6379 < docs/snippets/copy-sessions.bash
