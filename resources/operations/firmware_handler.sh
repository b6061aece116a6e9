#!/bin/sh
# The handler of the sample firmware_update workflow (firmware_update.toml beside it): an A/B slot
# layout under $EDGETWIN_DATA_DIR/firmware/, so the whole update runs without root.
#
#   firmware/slot-a/, firmware/slot-b/  an image and its firmware.json ({"name","version","url"})
#   firmware/active                     the slot the device runs ("a" at first)
#   firmware/pending                    the slot being updated, until commit or rollback
#   firmware/tryboot                    the slot the next (simulated) boot tries once
#   firmware/previous                   the slot committed away from, until the update ends
#
#   plan NAME VERSION             checks the request, forgets an update left half done
#   install FILE                  copies the downloaded image into the inactive slot
#   reboot                        marks the new slot for one trial boot (no real reboot)
#   verify [SHA256]               the new image has this sha256, or else is not empty
#   commit TOPIC NAME VERSION URL switches the active slot, publishes the twin fragment on TOPIC
#   rollback                      returns to the slot that was active before the update
#
# Exit status 0 on success, 1 on failure. A failure prints its reason for the workflow as
# thin-edge.io reads script output: JSON between :::begin-tedge::: and :::end-tedge::: lines.

set -u

# JSON string of $1: backslashes and quotes escaped, control characters dropped.
json() {
    printf '"%s"' "$(printf '%s' "$1" | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

fail() {
    echo "$*" >&2
    printf ':::begin-tedge:::\n{"reason":%s}\n:::end-tedge:::\n' "$(json "$*")"
    exit 1
}

[ -n "${EDGETWIN_DATA_DIR:-}" ] || fail "EDGETWIN_DATA_DIR is not set"
DIR=$EDGETWIN_DATA_DIR/firmware

active_slot() {
    if [ -f "$DIR/active" ]; then cat "$DIR/active"; else echo a; fi
}

other_slot() {
    if [ "$1" = a ]; then echo b; else echo a; fi
}

# Writes $2 into file $1 through a temporary file, so a crash never leaves half of it.
put() {
    printf '%s\n' "$2" >"$1.tmp" && mv -f "$1.tmp" "$1"
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d ' ' -f 1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d ' ' -f 1
    else
        openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1
    fi
}

cmd_plan() {
    [ -n "${1:-}" ] || fail "the request names no firmware: give it a name"
    [ -n "${2:-}" ] || fail "the request for $1 gives no version"
    mkdir -p "$DIR/slot-a" "$DIR/slot-b" || fail "cannot create $DIR"
    [ -f "$DIR/active" ] || put "$DIR/active" a || fail "cannot write $DIR/active"
    # An update that never ended (EdgeTwin stopped for good in the middle) is undone first.
    [ ! -f "$DIR/pending" ] || undo || fail "cannot undo the unfinished update of slot $(cat "$DIR/pending")"
    echo "planning $1 $2: running slot $(active_slot)"
}

cmd_install() {
    [ -n "${1:-}" ] && [ -f "$1" ] || fail "no downloaded image to install"
    target=$(other_slot "$(active_slot)")
    rm -f "$DIR/slot-$target/"*
    if ! cp "$1" "$DIR/slot-$target/image.tmp" || ! mv -f "$DIR/slot-$target/image.tmp" "$DIR/slot-$target/image"; then
        rm -f "$DIR/slot-$target/image.tmp"
        fail "cannot copy the image into slot $target"
    fi
    put "$DIR/pending" "$target" || fail "cannot write $DIR/pending"
    echo "installed into slot $target"
}

cmd_reboot() {
    [ -f "$DIR/pending" ] || fail "no installed image to boot"
    # A real device arms its bootloader here (e.g. `fw_setenv upgrade_available 1`, `rauc status
    # mark-active other`) and reboots; verify then runs on the new image.
    put "$DIR/tryboot" "$(cat "$DIR/pending")" || fail "cannot write $DIR/tryboot"
    echo "slot $(cat "$DIR/tryboot") is marked for a trial boot (simulated: the machine does not reboot)"
}

cmd_verify() {
    [ -f "$DIR/tryboot" ] || fail "no trial boot to verify"
    image=$DIR/slot-$(cat "$DIR/tryboot")/image
    [ -s "$image" ] || fail "the new image is empty or missing"
    if [ -n "${1:-}" ]; then
        actual=$(sha256_of "$image") || fail "cannot compute the sha256 of $image"
        expected=$(printf '%s' "$1" | tr 'A-F' 'a-f')
        [ "$actual" = "$expected" ] || fail "sha256 mismatch: expected $expected, got $actual"
    fi
    echo "verified $image"
}

cmd_commit() {
    topic=${1:-}
    name=${2:-}
    version=${3:-}
    url=${4:-}
    [ -f "$DIR/pending" ] || fail "no verified image to commit"
    new=$(cat "$DIR/pending")
    fields="\"name\":$(json "$name"),\"version\":$(json "$version")"
    [ -z "$url" ] || fields="$fields,\"url\":$(json "$url")"
    put "$DIR/slot-$new/firmware.json" "{$fields}" || fail "cannot write slot $new"
    put "$DIR/previous" "$(active_slot)" || fail "cannot write $DIR/previous"
    put "$DIR/active" "$new" || fail "cannot switch to slot $new"
    # The twin fragment thin-edge.io's firmware_update reports (retained, as every twin fragment).
    tedge mqtt pub -r "$topic" "{$fields}" || fail "cannot publish $topic"
    rm -f "$DIR/pending" "$DIR/tryboot" "$DIR/previous"
    echo "slot $new is active: $name $version"
}

# Back to the slot active before the update (commit may have switched already), new slot emptied.
undo() {
    if [ -f "$DIR/previous" ]; then
        put "$DIR/active" "$(cat "$DIR/previous")" || return 1
    fi
    if [ -f "$DIR/pending" ]; then
        rm -f "$DIR/slot-$(cat "$DIR/pending")/"* || return 1
    fi
    rm -f "$DIR/pending" "$DIR/tryboot" "$DIR/previous"
}

cmd_rollback() {
    undo || fail "cannot restore slot $(cat "$DIR/previous" 2>/dev/null || active_slot)"
    echo "rolled back: slot $(active_slot) is active"
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
    plan) cmd_plan "$@" ;;
    install) cmd_install "$@" ;;
    reboot) cmd_reboot ;;
    verify) cmd_verify "$@" ;;
    commit) cmd_commit "$@" ;;
    rollback) cmd_rollback ;;
    *) fail "usage: $0 plan NAME VERSION | install FILE | reboot | verify [SHA256] | commit TOPIC NAME VERSION URL | rollback" ;;
esac
