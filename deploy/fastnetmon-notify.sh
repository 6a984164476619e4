#!/bin/sh
# FastNetMon notify script for stormwatch: point FastNetMon's
# notify_script_path at it and it tells stormwatch of every ban (an
# attack starts, classified from FastNetMon's attack details), every
# attack_details call (it is updated) and every unban (it ends); the
# rules decide what the status page says.
#
#   # /etc/fastnetmon.conf
#   notify_script_path = /usr/local/bin/stormwatch-fastnetmon-notify
#   notify_script_pass_details = on
#   # /etc/default/stormwatch-fastnetmon (read if present)
#   STORMWATCH_URL=https://status.example.com
#   STORMWATCH_TOKEN=swn_…          # the node token of this FastNetMon host
#
# FastNetMon calls it as: SCRIPT IP DIRECTION PPS ACTION, with the attack
# details on stdin for ban and attack_details (text, or JSON with
# notify_script_format json). The script must read stdin whatever
# happens: FastNetMon waits for it.
set -u
[ -r /etc/default/stormwatch-fastnetmon ] && . /etc/default/stormwatch-fastnetmon
ip=${1:-} direction=${2:-} pps=${3:-0} action=${4:-}
details=$(cat)
: "${STORMWATCH_URL:?set STORMWATCH_URL (the stormwatch server)}" "${STORMWATCH_TOKEN:?set STORMWATCH_TOKEN (the node token)}"
case $pps in *[!0-9]*|'') pps=0 ;; esac
# One id per call: curl's retries repeat it, so the server counts a call
# once however often it arrives.
id="$(date +%s)-$$-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
json_string() { # stdin -> a JSON string
	awk 'BEGIN { ORS=""; print "\"" } { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/\r/, ""); if (NR > 1) print "\\n"; print } END { print "\"" }'
}
body=$(printf '{"id":%s,"ip":%s,"direction":%s,"pps":%s,"action":%s,"details":%s}' \
	"$(printf %s "$id" | json_string)" "$(printf %s "$ip" | json_string)" "$(printf %s "$direction" | json_string)" \
	"$pps" "$(printf %s "$action" | json_string)" "$(printf %s "$details" | json_string)")
printf %s "$body" | curl -sS --fail-with-body --retry 5 --retry-all-errors --max-time 10 \
	-H "Authorization: Bearer $STORMWATCH_TOKEN" -H "Content-Type: application/json" \
	--data-binary @- "${STORMWATCH_URL%/}/api/v1/inbound/fastnetmon" >/dev/null ||
	logger -t stormwatch-fastnetmon "could not tell stormwatch of $action $ip (curl exit $?)"
exit 0
