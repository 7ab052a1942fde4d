#!/usr/bin/env bash
# t_audit_verify_lang.sh - `xiezhi audit verify` says why a chain fails in
# the reader's language: under LANG=zh_CN.UTF-8 the reason code stays (for
# scripts) with its Chinese label, and the detail sentence of the chain
# library is Chinese, numbers and all; under LANG=C both are English. A
# real node writes and signs the chain; sqlite3 tampers with copies (an
# edited field, a deleted record, a cut tail), a checkpoint of the sink is
# edited, a key file is not a key, and the node's own online verify of a
# tampered log is read in both languages.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || skip_test "no sqlite3 shell"
xz_setup
unset LC_ALL LC_MESSAGES
ZH=zh_CN.UTF-8
SINK_DIR=$XZ_T/sink
mkdir -p "$SINK_DIR"
SINK=$SINK_DIR/anchors.log
xz_config <<EOF2
plugins = ( { name = "audit"; kind = "so";
  options = { anchor_file = "$SINK"; anchor_every = 5;
              anchor_interval_s = 3600; anchor_node = "n1"; }; } );
EOF2
DATA=$XZ_T/n1/data
start_node
for i in $(seq 1 12); do
	xz pub audit.prison.prisoner.view "{\"who\":\"officer-$i\",\"role\":\"area_officer\",\"agency\":\"prison-01\",\"action\":\"VIEW\",\"subject_type\":\"prisoner\",\"subject_id\":\"A10${i}BC\",\"purpose\":\"visit booking\",\"outcome\":\"ok\",\"time\":1795932522918}" >/dev/null
done
twelve() { test "$(counter audit records)" = 12; }
wait_for 60 twelve || die "the audit plugin did not write 12 records in 60 s"
stop_node

# zh / en: run the verify under each language; $OUT and $ERR as check's.
zh() { LANG=$ZH "$@"; }
en() { LANG=C "$@"; }

echo "-- an untouched log"
check "verify (zh)" zh "$XZ_BIN" audit verify -f "$DATA/audit.db"
assert_eq "ok in Chinese" "ok: 12 条记录（最后序号 12）" "$OUT"
check "verify against the checkpoints (zh)" zh "$XZ_BIN" audit verify -f "$DATA/audit.db" --anchors "$SINK"
assert_contains "checkpoints in Chinese" "个检查点一致（最后一个签署到记录 12）" "$OUT"

n=0
tamper() {
	n=$((n + 1))
	T="$XZ_T/tamper$n"
	cp "$DATA/audit.db" "$T.db"
	cp "$DATA/audit.head" "$T.head"
	sqlite3 "$T.db" "DROP TRIGGER audit_log_no_update;
		DROP TRIGGER audit_log_no_delete; $1"
}

# both_langs WHAT ZH EN VERIFY-ARGS...: verify fails in either language,
# with the Chinese and the English verdict
both_langs() {
	local what=$1 zh_text=$2 en_text=$3
	shift 3
	assert_exit "$what (zh)" 1 zh "$XZ_BIN" audit verify "$@"
	assert_contains "$what, in Chinese" "$zh_text" "$OUT"
	assert_exit "$what (C)" 1 en "$XZ_BIN" audit verify "$@"
	assert_contains "$what, in English" "$en_text" "$OUT"
}

echo "-- an edited field"
tamper "UPDATE audit_log SET subject_id = 'B9999ZZ' WHERE seq = 4"
both_langs edited \
	"FAIL: 记录 4：edited（被修改）：记录 4 与其哈希不符（有字段被改动）" \
	"FAIL: record 4: edited: record 4 does not match its hash (a field was changed)" \
	-f "$T.db"

echo "-- a deleted record"
tamper "DELETE FROM audit_log WHERE seq = 6"
both_langs deleted \
	"FAIL: 记录 6：deleted（被删除）：记录 6 缺失（下一条现存记录：7）" \
	"FAIL: record 6: deleted: record 6 is missing (next present: 7)" \
	-f "$T.db"

echo "-- a cut tail"
tamper "DELETE FROM audit_log WHERE seq >= 8"
both_langs truncated \
	"FAIL: 记录 8：truncated（被截断）：日志止于记录 7，但其锚点行记为 12" \
	"FAIL: record 8: truncated: the log ends at record 7 but its anchor says 12" \
	-f "$T.db"

echo "-- an edited checkpoint"
cp "$SINK" "$XZ_T/sink-edit"
sed -i '2s/ seq=10 / seq=11 /' "$XZ_T/sink-edit"
both_langs "edited checkpoint" \
	"FAIL: 检查点 2：记录 11：signature（签名无效）：检查点 2（记录 11）：签名验证失败（该行被改动或伪造）" \
	"FAIL: checkpoint 2: record 11: signature: checkpoint 2 (record 11): the signature does not verify (the line was altered or forged)" \
	-f "$DATA/audit.db" --anchors "$XZ_T/sink-edit" --key "$SINK.key.pub"

echo "-- a key file that is no key"
echo "not a key" >"$XZ_T/bad.pub"
assert_exit "bad key (zh)" 1 zh "$XZ_BIN" audit verify -f "$DATA/audit.db" --anchors "$SINK" --key "$XZ_T/bad.pub"
assert_contains "bad key, in Chinese" \
	"xiezhi audit verify：$XZ_T/bad.pub：不是公钥（应为 64 位十六进制数字）" "$ERR"
assert_exit "bad key (C)" 1 en "$XZ_BIN" audit verify -f "$DATA/audit.db" --anchors "$SINK" --key "$XZ_T/bad.pub"
assert_contains "bad key, in English" \
	"xiezhi audit verify: $XZ_T/bad.pub: not a public key (64 hex digits expected)" "$ERR"

echo "-- the node's own verify of a tampered log"
sqlite3 "$DATA/audit.db" "DROP TRIGGER audit_log_no_update;
	UPDATE audit_log SET outcome = 'denied' WHERE seq = 2"
start_node
both_langs online \
	"FAIL: 记录 2：edited（被修改）：记录 2 与其哈希不符（有字段被改动）" \
	"FAIL: record 2: edited: record 2 does not match its hash (a field was changed)" \
	-c "$XZ_CFG" -t 60000
stop_node
finish
