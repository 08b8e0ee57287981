make preview   # creates ./venv, installs the project, prints the offline plan of the dev stack
make test      # the whole test suite (real redis-server and redis-sentinel included)
