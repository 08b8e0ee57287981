set -euo pipefail
export REDISCLI_AUTH="$(cat "$REDIS_PASSWORD_FILE")"
redis-cli -p "$REDIS_PORT" --scan |
  xargs -r -n 500 redis-cli -p "$REDIS_PORT" MIGRATE "$1" "$2" "" 0 60000 COPY REPLACE AUTH "$REDISCLI_AUTH" KEYS
echo "old: $(redis-cli -p "$REDIS_PORT" DBSIZE) keys, new: $(redis-cli -h "$1" -p "$2" DBSIZE) keys"
