kubectl -n redis get pvc redis-data-redis-node-0 -o jsonpath='{.spec.storageClassName}'
kubectl get storageclass <class> -o jsonpath='{.allowVolumeExpansion}'   # must print true
kubectl -n redis patch pvc redis-data-redis-node-0 --type merge -p '{"spec":{"resources":{"requests":{"storage":"16Gi"}}}}'
kubectl -n redis patch pvc redis-data-redis-node-1 --type merge -p '{"spec":{"resources":{"requests":{"storage":"16Gi"}}}}'
kubectl -n redis patch pvc redis-data-redis-node-2 --type merge -p '{"spec":{"resources":{"requests":{"storage":"16Gi"}}}}'
kubectl -n redis get pvc                                     # wait until CAPACITY is 16Gi
kubectl -n redis delete statefulset redis-node --cascade=orphan   # its pods and claims stay
pulumi config set --path omnia-agents:redis.volumeSize 16Gi
pulumi state unprotect 'urn:pulumi:prod::omnia-agents::omnia-agents:index:RedisStore$random:index/randomId:RandomId::redis-data-guard'
pulumi refresh --yes --target 'urn:pulumi:prod::omnia-agents::omnia-agents:index:RedisStore$kubernetes:helm.sh/v4:Chart$kubernetes:apps/v1:StatefulSet::redis:redis/redis-node'
pulumi up
