kubectl delete namespace <redis.namespace>     # deletes its PVCs; volumes follow their reclaim policy
pulumi state unprotect --all && pulumi destroy # if the namespace was still in the state
