#!/bin/bash
# A private Postfix on 127.0.0.1 that accepts every message and discards it
# after queueing it like any delivery (smtpd -> cleanup -> queue file
# written and synced -> qmgr -> discard): the realistic local SMTP sink of
# `cargo bench --bench daemon` (HANBAO_BENCH_SINK=127.0.0.1:PORT).
#
#   benches/postfix_sink.sh start [PORT]   (default 2525; needs root and
#                                           Debian's postfix package)
#   benches/postfix_sink.sh stop
#
# Everything lives in $HANBAO_POSTFIX_DIR (default /tmp/hanbao-postfix); the
# system's own Postfix configuration is not touched.
set -eu
dir=${HANBAO_POSTFIX_DIR:-/tmp/hanbao-postfix}
cmd=${1:-start}
port=${2:-2525}

case "$cmd" in
stop)
    postfix -c "$dir/conf" stop 2>/dev/null || true
    exit 0
    ;;
start) ;;
*)
    echo "usage: $0 start [PORT] | stop" >&2
    exit 2
    ;;
esac

command -v postfix >/dev/null || {
    echo "postfix is not installed (apt-get install postfix)" >&2
    exit 1
}
postfix -c "$dir/conf" stop 2>/dev/null || true
rm -rf "$dir"
mkdir -p "$dir/conf" "$dir/queue" "$dir/data"
cat >"$dir/conf/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = sink.hanbao.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
default_transport = discard:hanbao bench sink
local_transport = discard:hanbao bench sink
relay_transport = discard:hanbao bench sink
alias_maps =
alias_database =
maillog_file_prefixes = $dir
maillog_file = $dir/maillog
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
CF
# Debian's master.cf with every service out of chroot and the SMTP
# listener moved to 127.0.0.1:$port.
sed -e 's/^\([a-z][^ ]*  *[a-z]*  *[-yn]  *[-yn]  *\)[-yn]/\1n/' \
    -e "s/^smtp      inet/127.0.0.1:$port inet/" \
    /etc/postfix/master.cf >"$dir/conf/master.cf"
grep -q "^postlog" "$dir/conf/master.cf" ||
    echo "postlog   unix-dgram n  -       n       -       1       postlogd" >>"$dir/conf/master.cf"
chown -R postfix "$dir/data"
postfix -c "$dir/conf" set-permissions >/dev/null 2>&1 || true
# Under `script`: Postfix prints its fatal errors only to a terminal (or
# syslog, which a container may lack).
script -qec "postfix -c $dir/conf check" /dev/null
script -qec "postfix -c $dir/conf start" /dev/null
for _ in 1 2 3 4 5 6 7 8 9 10; do
    if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
        echo "postfix sink listening on 127.0.0.1:$port ($dir)"
        exit 0
    fi
    sleep 0.5
done
echo "postfix did not open 127.0.0.1:$port; see $dir/maillog" >&2
exit 1
