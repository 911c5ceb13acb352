# Sourced by bench.sh and bench_sdxl.sh (needs OUT and NICE set).
run() { nice -n "$NICE" "$@"; }
timed() { # timed NAME CMD...: wall time and peak RSS of CMD into $OUT/NAME.time
	local name=$1
	shift
	echo "== $name: $*" | tee -a "$OUT/log.txt"
	if ! run /usr/bin/time -v -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"; then
		echo "   FAILED (see $OUT/$name.err)" | tee -a "$OUT/log.txt"
		tail -5 "$OUT/$name.err" | tee -a "$OUT/log.txt"
		return 0
	fi
	grep -E "Maximum resident|Elapsed" "$OUT/$name.time" | sed 's/^/   /' | tee -a "$OUT/log.txt"
}
