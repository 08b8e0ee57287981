set -euo pipefail
export REDISCLI_AUTH="$(cat "$REDIS_PASSWORD_FILE")"
target="${3:-$REDISCLI_AUTH}"   # the new Redis's password: another store has its own
redis-cli -p "$REDIS_PORT" --scan |
  xargs -r -n 500 redis-cli -p "$REDIS_PORT" MIGRATE "$1" "$2" "" 0 60000 COPY REPLACE AUTH "$target" KEYS
echo "old: $(redis-cli -p "$REDIS_PORT" DBSIZE) keys, new: $(REDISCLI_AUTH="$target" redis-cli -h "$1" -p "$2" DBSIZE) keys"
