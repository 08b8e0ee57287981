kubectl -n redis delete statefulset redis-node                        # its claims stay (Retain)
kubectl -n redis delete pvc -l app.kubernetes.io/component=node       # once sure: the old claims
