# The JSON of `dmstore bench ops --json`, as dmstore(8) documents it (BENCHMARKS, "bench ops
# --json"): every key, and its type. `jq -e -f tests/vm/bench-ops.jq` exits 0 when it holds.
def num_or_null: type == "number" or type == "null";
def keys_are($k): (keys | sort) == ($k | sort);
def row:
	(keys - ["bytes", "bytes_min", "bytes_max"] | sort)
		== (["label", "op", "population", "step", "n", "p50_ms", "p99_ms", "min_ms", "max_ms", "error"] | sort)
	and (.label | type == "string") and (.op | type == "string") and (.population | num_or_null)
	and (.step | type == "boolean") and (.n | type == "number")
	and all(.p50_ms, .p99_ms, .min_ms, .max_ms; num_or_null)
	and all(.bytes, .bytes_min, .bytes_max; num_or_null)
	and (.error | type == "string" or type == "null");
def check:
	keys_are(["what", "value", "target", "limit", "met", "informational"])
	and (.what | type == "string") and (.value | num_or_null) and (.target | IN(">=", "<="))
	and (.limit | type == "number") and (.met | type == "boolean" or type == "null")
	and (.informational | type == "boolean");

keys_are(["bench", "title", "command", "params", "seconds", "rows", "checks", "notes", "detail"])
and .bench == "ops" and (.title | type == "string") and (.command | type == "string")
and (.seconds | type == "number")
and (.params | keys_are(["pool", "image", "populations", "vol_sizes", "iterations", "import_iterations",
	"exec_iterations", "warmup", "lvm"]))
and (.params.populations | type == "array" and all(.[]; type == "number"))
and (.params.vol_sizes | type == "array" and all(.[]; type == "number"))
and (.rows | type == "array" and length > 0 and all(.[]; row))
and (.checks | type == "array" and all(.[]; check))
and (.notes | type == "array" and all(.[]; type == "string"))
and (.detail.samples_ms | type == "object" and all(.[]; type == "array" and all(.[]; type == "number")))
