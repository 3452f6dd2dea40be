# Sourced by scripts/screenshot, scripts/action_screenshot and scripts/ui_screenshots: Chromium, and
# a demo (scripts/demo, headless) started in the background and always stopped when the script ends.
#
#   demo_session_init NAME       NAME prefixes messages; sets $tmp (removed at exit) and the traps
#   need_chromium                install Debian's chromium with apt-get when missing
#   start_demo ARGS...           start scripts/demo ARGS (env such as DEMO_DIR passed through) and
#                                wait until it says it is running; its log is $tmp/demo.log
#   stop_demo                    stop it (scripts/demo stops Home Assistant itself) and wait
# Port 8123 must be free (no other demo running).

demo_session_init() {
    session_name=$1
    tmp=$(mktemp -d)
    demo_pid=""
    trap demo_session_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

demo_session_cleanup() {
    trap - EXIT INT TERM
    stop_demo
    rm -rf "$tmp"
}

need_chromium() {
    if ! command -v chromium > /dev/null; then
        echo "$session_name: installing chromium (apt-get)"
        apt-get update -qq && apt-get install -y -qq chromium > /dev/null
    fi
}

start_demo() {
    echo "$session_name: starting the demo (scripts/demo $*; log: $tmp/demo.log)"
    scripts/demo "$@" > "$tmp/demo.log" 2>&1 &
    demo_pid=$!
    until grep -q "is running" "$tmp/demo.log" 2> /dev/null; do
        if ! kill -0 "$demo_pid" 2> /dev/null; then
            cat "$tmp/demo.log" >&2
            echo "$session_name: the demo did not start" >&2
            exit 1
        fi
        sleep 1
    done
}

stop_demo() {
    if [[ -n "$demo_pid" ]] && kill -0 "$demo_pid" 2> /dev/null; then
        kill -TERM "$demo_pid" 2> /dev/null || true
        wait "$demo_pid" 2> /dev/null || true
    fi
    demo_pid=""
}
