# The JSON of `dmstore bench io --json`, as dmstore(8) documents it (BENCHMARKS, "bench io
# --json"): every key, and its type. `jq -e -f tests/vm/bench-io.jq` exits 0 when it holds.
def num_or_null: type == "number" or type == "null";
def str_or_null: type == "string" or type == "null";
def keys_are($k): (keys | sort) == ($k | sort);
def dir:
	type == "object" and keys_are(["ios", "bytes", "iops", "mb_per_s", "lat_us"])
	and (.ios | type == "number") and (.bytes | type == "number")
	and (.iops | num_or_null) and (.mb_per_s | num_or_null)
	and (.lat_us | type == "object" and keys_are(["p50", "p99", "p99.9"]) and all(.[]; num_or_null));
def workload:
	keys_are(["name", "rw", "bs", "iodepth", "jobs", "rwmixread"])
	and (.name | type == "string")
	and (.rw | IN("read", "write", "randread", "randwrite", "randrw"))
	and all(.bs, .iodepth, .jobs, .rwmixread; type == "number");
def target: IN("raw", "fresh", "provisioned", "snapshot", "shared", "fs");
def median:
	type == "object" and keys_are(["mb_per_s", "iops", "p99_us"])
	and (.mb_per_s | num_or_null) and (.iops | num_or_null)
	and (.p99_us | type == "object" and keys_are(["read", "write"]) and all(.[]; num_or_null));
def result:
	keys_are(["target", "workload", "engine", "rounds", "seconds", "cpu_us_per_io", "all", "read", "write", "median",
		"pool_blocks", "pool_blocks_per_gib", "metadata_bytes", "vs_raw", "error"])
	and (.target | target) and (.workload | type == "string") and (.engine | IN("dmstore", "fio"))
	and (.rounds | type == "number") and (.seconds | num_or_null) and (.cpu_us_per_io | num_or_null) and (.all | dir)
	and (.read | . == null or dir) and (.write | . == null or dir) and (.median | . == null or median)
	and (.pool_blocks | num_or_null) and (.pool_blocks_per_gib | num_or_null) and (.metadata_bytes | num_or_null)
	and (.vs_raw | . == null or (keys_are(["mb_per_s", "iops", "p50", "p99", "p99.9"]) and all(.[]; num_or_null)))
	and (.error | str_or_null);
def verdict:
	keys_are(["target", "workload", "direction", "mb_per_s_ratio", "p99_ratio", "within_bands"])
	and (.target | target) and (.workload | type == "string") and (.direction | IN("read", "write"))
	and (.mb_per_s_ratio | num_or_null) and (.p99_ratio | num_or_null) and (.within_bands | type == "boolean");

keys_are(["bench", "title", "command", "params", "seconds", "results", "referee", "notes"])
and .bench == "io" and (.title | type == "string") and (.command | type == "string")
and (.seconds | type == "number")
and (.params | keys_are(["pool", "scratch_pool", "block_size", "zero", "baseline", "size", "runtime_s",
	"io_size", "rounds", "cpus", "targets", "workloads", "fio"]))
and (.params.pool | type == "string") and (.params.scratch_pool | type == "boolean")
and (.params.block_size | type == "number") and (.params.zero | type == "boolean")
and (.params.baseline | str_or_null) and (.params.size | type == "number")
and (.params.runtime_s | num_or_null) and (.params.io_size | num_or_null) and (.params.rounds | type == "number")
and (.params.cpus | str_or_null)
and (.params.targets | type == "array" and all(.[]; target))
and (.params.workloads | type == "array" and length > 0 and all(.[]; workload))
and (.params.fio | str_or_null)
and (.results | type == "array" and length > 0 and all(.[]; result))
and (.referee | . == null or (type == "array" and all(.[]; verdict)))
and (.notes | type == "array" and all(.[]; type == "string"))
