#!/bin/bash
# Garbage on the command line: every option given empty, negative, huge,
# 64 KiB long, non-UTF-8, control-character and trailing-junk values, in
# both "--opt VALUE" and "--opt=VALUE" forms, options without their value,
# options repeated, and `minivmm ctl` misused.  Each run must print exactly
# one "minivmm: ..." line on stderr and exit non-zero: never a crash
# (status >= 128), a hang or a sanitizer report.
#
# Garbage must be refused while parsing (status 2), before /dev/kvm is
# opened.  Values that are odd but valid (an empty --cmdline, non-UTF-8
# --append, repeated options where the last one wins) are run in a mount
# namespace whose /dev is empty, so they stop at "/dev/kvm does not exist"
# (status 1) on any machine and never boot a guest; without namespaces
# they are skipped where KVM is usable.
#
# One PASS/FAIL line per option (its cases listed on failure).  Run again
# against an ASan+UBSan build of minivmm when MINIVMM_ASAN names one (the
# Makefile has no such target; the unit tests cover the parsers under ASan
# too), else that part is a SKIP line.
set -uo pipefail
cd "$(dirname "$0")/../.."
M=${MINIVMM:-build/minivmm}
K=${GUEST:-build/guest}/vmlinuz
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/unit/lsan.supp}

if [ ! -f "$K" ]; then
    # Only the missing-kernel message could be tested: not worth a run.
    echo "SKIP cli-garbage: no guest kernel at $K (run make guest)"
    exit 0
fi

# ---- values -----------------------------------------------------------
LONG=$(head -c 65536 /dev/zero | tr '\0' x)			# 64 KiB
DIGITS=$(head -c 65536 /dev/zero | tr '\0' 9)			# a 64 KiB number
NONUTF8=$'\xff\xfe\xc0\x80\xed\xa0\x80'				# invalid UTF-8
CTRL=$'a\nminivmm: forged second line\e[2J\r'			# newline, ESC, CR
HIGH=$'\x9b\x85'						# C1 controls as bytes
truncate -s 1M "$T/disk.img"
echo 'not a socket' >"$T/regular"
mkdir -p "$T/dir"
ln -s "$T/nowhere" "$T/dangling"

# ---- running one case ---------------------------------------------------
CAN_NS=0
unshare -m true 2>/dev/null && CAN_NS=1
KVM_USABLE=0
tools/kvm-usable.sh 2>/dev/null && KVM_USABLE=1

# run WANT ARGS...: WANT is "2" (refused while parsing), "1" (a run-time
# failure: ctl finding nobody), "kvm" (accepted: must end at the missing
# /dev/kvm) or "any" (either of 2 and kvm: an option this script does not
# know yet, given generic garbage).  Sets $why on failure; returns 0 if
# the case passed, 2 if it cannot be run here.
run() {
    local want=$1 st lines; shift
    why=
    if [ "$want" = kvm ] || [ "$want" = any ]; then
        if [ $CAN_NS = 1 ]; then
            timeout -k 2 20 unshare -m sh -c 'mount -t tmpfs none /dev && exec "$0" "$@"' \
                "$BIN" "$@" </dev/null >"$T/out" 2>"$T/err"; st=$?
        elif [ $KVM_USABLE = 0 ]; then
            timeout -k 2 20 "$BIN" "$@" </dev/null >"$T/out" 2>"$T/err"; st=$?
        else
            return 2
        fi
    else
        timeout -k 2 20 "$BIN" "$@" </dev/null >"$T/out" 2>"$T/err"; st=$?
    fi
    lines=$(wc -l <"$T/err")
    if [ "$st" -eq 124 ] || [ "$st" -eq 137 ]; then
        why="hung (killed after 20 s)"
    elif [ "$st" -ge 128 ]; then
        why="crashed: status $st ($(kill -l $((st - 128)) 2>/dev/null))"
    elif grep -qE 'Sanitizer|runtime error:|==[0-9]+==' "$T/err"; then
        why="sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error:' "$T/err" | cut -c1-200)"
    elif [ "$st" -eq 0 ]; then
        why="exit status 0"
    elif [ "$lines" -ne 1 ] || [ "$(grep -c '^minivmm: ' "$T/err")" -ne 1 ]; then
        why="$lines lines on stderr, expected one 'minivmm: ...': $(head -c 300 "$T/err" | cat -v | tr '\n' '|')"
    elif [ "$want" = 1 ] && [ "$st" -ne 1 ]; then
        why="exit status $st, expected 1: $(cut -c1-160 "$T/err")"
    elif [ "$want" = 2 ] && [ "$st" -ne 2 ]; then
        why="exit status $st, expected 2 (refused before /dev/kvm): $(cut -c1-160 "$T/err")"
    elif [ "$want" = any ] && [ "$st" -ne 2 ] && { [ $CAN_NS = 0 ] ||
         [ "$st" -ne 1 ] || ! grep -q '/dev/kvm does not exist' "$T/err"; }; then
        why="exit status $st, expected 2 or 1 at the missing /dev/kvm: $(cut -c1-160 "$T/err")"
    elif [ "$want" = kvm ] && [ $CAN_NS = 1 ] &&
         { [ "$st" -ne 1 ] || ! grep -q '/dev/kvm does not exist' "$T/err"; }; then
        why="exit status $st, expected 1 at the missing /dev/kvm: $(cut -c1-160 "$T/err")"
    elif grep -qE -- '(--[a-z-]+): \1:' "$T/err"; then
        why="the option is named twice: $(cut -c1-160 "$T/err" | cat -v)"
    elif [ -n "${RE:-}" ] && ! grep -qiE -- "$RE" "$T/err"; then
        why="message does not match /$RE/: $(cut -c1-160 "$T/err" | cat -v)"
    fi
    [ -z "$why" ]
}

# group NAME: starts a group; case WANT LABEL ARGS...; end: PASS/FAIL line.
group() { G=$1; G_N=0; G_SKIP=0; G_FAIL=(); }
case_() {
    local want=$1 label=$2 rc; shift 2
    run "$want" "$@"; rc=$?
    if [ $rc = 2 ]; then
        G_SKIP=$((G_SKIP + 1))
    elif [ $rc != 0 ]; then
        G_FAIL+=("$label: $why")
    fi
    G_N=$((G_N + 1))
}
end() {
    local f
    if [ ${#G_FAIL[@]} -eq 0 ]; then
        echo "PASS $PREFIX:$G ($((G_N - G_SKIP)) cases${G_SKIP:+$( [ $G_SKIP -gt 0 ] && echo ", $G_SKIP skipped: KVM usable and no mount namespace")})"
    else
        echo "FAIL $PREFIX:$G: ${#G_FAIL[@]} of $G_N cases"
        for f in "${G_FAIL[@]}"; do printf '    %s\n' "$f" | cut -c1-400; done
    fi
}

# value_cases OPT WANT LABEL=VALUE...: "--opt VALUE" and "--opt=VALUE",
# with a valid kernel so only the value is wrong.
value_cases() {
    local opt=$1 want=$2 lv; shift 2
    for lv in "$@"; do
        case_ "$want" "$opt ${lv%%=*}" --kernel "$K" "$opt" "${lv#*=}"
        case_ "$want" "$opt=${lv%%=*}" --kernel "$K" "$opt=${lv#*=}"
    done
}

all_cases() {
    RE=
    group kernel
    case_ 2 empty --kernel ''
    case_ 2 empty= --kernel=
    case_ 2 long --kernel "$LONG"
    case_ 2 non-utf8 --kernel "$T/$NONUTF8"
    case_ 2 control-chars --kernel "$CTRL"
    case_ 2 c1-bytes --kernel "$HIGH"
    case_ 2 dash --kernel -
    case_ 2 dev-zero --kernel /dev/zero
    case_ 2 directory --kernel "$T/dir"
    case_ 2 dangling-symlink --kernel "$T/dangling"
    case_ 2 option-as-value --kernel --mem
    case_ 2 repeated-last-bad --kernel "$K" --kernel "$T/nope"
    case_ kvm repeated-last-good --kernel "$T/nope" --kernel "$K"
    end

    group initrd
    value_cases --initrd 2 empty= long="$LONG" non-utf8="$T/$NONUTF8" \
        control-chars="$CTRL" dev-zero=/dev/zero directory="$T/dir" dash=-
    end

    group cmdline
    value_cases --cmdline 2 long="$LONG"
    value_cases --cmdline kvm empty= non-utf8="$NONUTF8" control-chars="$CTRL"
    end

    group append
    value_cases --append 2 long="$LONG"
    value_cases --append kvm empty= non-utf8="$NONUTF8" control-chars="$CTRL"
    local many=() i
    for i in $(seq 1 17); do many+=(--append x); done
    case_ 2 seventeen --kernel "$K" "${many[@]}"
    many=()
    for i in $(seq 1 20000); do many+=(--append "$i"); done
    case_ 2 twenty-thousand --kernel "$K" "${many[@]}"
    end

    group mem
    # Signs and blanks are not sizes (strtoull would take " -5" as 2^64-5).
    RE="--mem: '.*' is not a size"
    value_cases --mem 2 empty= negative=-1 negative-M=-5M plus=+5M \
        space-before=' 5M' space-minus=' -5' tab-minus=$'\t-5M' space-after='5M '
    RE='--mem'
    value_cases --mem 2 zero=0 zero-M=0M \
        trailing-junk=512Mx double-suffix=512MiBB unit-only=M \
        float=1.5G exponent=1e9 hex=0x100000000 u64-max=18446744073709551615 \
        u64-wrap=18446744073709551616 overflow-T=99999999999T \
        host-too-small=64T digits-64k="$DIGITS" long="$LONG" \
        non-utf8="$NONUTF8" control-chars="$CTRL"
    RE=
    case_ 2 repeated-last-bad --kernel "$K" --mem 1G --mem lots
    case_ 2 repeated-first-bad --kernel "$K" --mem lots --mem 256M
    case_ kvm repeated-last-good --kernel "$K" --mem 1G --mem 256M
    end

    group cpus
    RE='--cpus'
    value_cases --cpus 2 empty= zero=0 negative=-1 sixty-five=65 \
        hundred-thousand=100000 u32-wrap=4294967297 float=1.5 junk=2x \
        space-before=' 2' hex=0x2 plus=+2 digits-64k="$DIGITS" long="$LONG" \
        non-utf8="$NONUTF8" control-chars="$CTRL"
    RE=
    end

    group name
    value_cases --name 2 empty= long="$LONG" sixty-five-bytes="$(head -c 65 /dev/zero | tr '\0' n)" \
        control-chars="$CTRL"
    value_cases --name kvm non-utf8="$NONUTF8" sixty-four-bytes="$(head -c 64 /dev/zero | tr '\0' n)"
    end

    group disk
    value_cases --disk 2 empty= comma=, only-ro=,ro missing="$T/nope" \
        directory="$T/dir" long="$LONG" non-utf8="$T/$NONUTF8" \
        control-chars="$CTRL" unknown-flag="$T/disk.img,frob" \
        ro-twice="$T/disk.img,ro,ro" empty-flag="$T/disk.img,,ro" \
        trailing-comma="$T/disk.img," serial-empty="$T/disk.img,serial=" \
        serial-long="$T/disk.img,serial=$(head -c 21 /dev/zero | tr '\0' s)" \
        serial-ctrl="$T/disk.img,serial=$CTRL" serial-twice="$T/disk.img,serial=a,serial=b" \
        flag-long="$T/disk.img,$LONG" dev-zero=/dev/zero
    local disks=()
    for i in $(seq 1 7); do disks+=(--disk "$T/disk.img,ro"); done
    case_ 2 seven-disks --kernel "$K" "${disks[@]}"
    case_ 2 same-image-twice-rw --kernel "$K" --disk "$T/disk.img" --disk "$T/disk.img"
    end

    local opt
    for opt in console gpu display; do
        group "$opt"
        RE="--$opt"
        value_cases "--$opt" 2 empty= bogus=bogus upper=VIRTIO-2D-SDL \
            trailing-space='none ' prefix=non long="$LONG" \
            non-utf8="$NONUTF8" control-chars="$CTRL" c1-bytes="$HIGH"
        RE=
        end
    done

    group resolution
    RE='--resolution'
    value_cases --resolution 2 empty= zero=0x0 huge=99999x99999 abc=abc \
        no-height=640x no-width=x480 extra=640x480x too-narrow=63x480 \
        too-wide=4096x480 too-tall=640x4096 negative=-640x480 \
        negative-height=640x-480 plus-height=640x+480 space=' 640x480' \
        inner-space='640 x480' space-after='640x480 ' star=640*480 \
        overflow=18446744073709551617x480 overflow-height=640x18446744073709551617 \
        digits-64k="${DIGITS}x480" long="$LONG" non-utf8="$NONUTF8" \
        control-chars="$CTRL"
    RE=
    end

    group control
    value_cases --control 2 empty= long="$LONG" too-long-by-one="/tmp/$(head -c 104 /dev/zero | tr '\0' c)" \
        no-such-dir="$T/no/such/x.sock" regular-file="$T/regular" \
        directory="$T/dir" dangling-symlink="$T/dangling" \
        under-a-file="$T/regular/x.sock" non-utf8-dir="$T/$NONUTF8/x.sock" \
        control-chars="$T/$CTRL"
    end

    if "$BIN" --help 2>/dev/null | grep -q -- --seccomp; then
        group seccomp
        RE='--seccomp'
        value_cases --seccomp 2 empty= bogus=bogus long="$LONG" \
            non-utf8="$NONUTF8" control-chars="$CTRL"
        RE=
        end
    fi

    # Every option --help lists: flags given a value, the others none;
    # options without a group above get generic garbage.
    group flags-given-values
    RE="option '--[a-z-]+' takes no value"
    for opt in $FLAGS; do
        case_ 2 "$opt=1" --kernel "$K" "$opt=1"
        case_ 2 "$opt=" --kernel "$K" "$opt="
        case_ 2 "$opt=64k" --kernel "$K" "$opt=$LONG"
    done
    RE=
    end

    group missing-values
    RE='needs a value'
    for opt in $VALUED -k -i -c -a -m -p -n -d; do
        case_ 2 "$opt" --kernel "$K" "$opt"
    done
    RE=
    end

    local unknown=
    for opt in $VALUED; do
        case " $KNOWN " in *" $opt "*) ;; *) unknown+=" $opt" ;; esac
    done
    if [ -n "$unknown" ]; then
        unknown=${unknown# }
        group "other-options:${unknown// /,}"
        for opt in $unknown; do
            for v in '' "$LONG" "$NONUTF8" "$CTRL" -1 99999999999999999999; do
                case_ any "$opt $(printf %q "$v" | cut -c1-20)" --kernel "$K" "$opt" "$v"
            done
        done
        end
    fi

    group unknown-and-stray
    case_ 2 unknown-long --frobnicate
    case_ 2 unknown-long-value --frobnicate=1
    case_ 2 unknown-short -z
    case_ 2 unknown-in-cluster -Vz
    case_ 2 ambiguous-prefix --c "$K"
    case_ 2 triple-dash ---kernel "$K"
    case_ 2 empty-long-name --=x
    case_ 2 lone-dash -
    case_ 2 empty-argument --kernel "$K" ''
    case_ 2 after-double-dash --kernel "$K" -- --mem
    case_ 2 long-argument --kernel "$K" "$LONG"
    case_ 2 non-utf8-option "--$NONUTF8"
    case_ 2 control-char-option "--$CTRL"
    case_ 2 long-option "--$LONG"
    case_ 2 no-kernel --mem 1G
    end

    group ctl
    case_ 2 no-arguments ctl
    case_ 2 no-command ctl "$T/sock"
    case_ 2 unknown-command ctl "$T/sock" frob
    case_ 2 command-control-chars ctl "$T/sock" "$CTRL"
    case_ 2 key-control-chars ctl "$T/sock" key "$CTRL" x
    case_ 2 long-command ctl "$T/sock" "$LONG"
    case_ 2 ping-with-argument ctl "$T/sock" ping x
    case_ 2 type-newline ctl "$T/sock" type "$CTRL"
    case_ 2 type-64k ctl "$T/sock" type "$LONG"
    case_ 2 key-missing ctl "$T/sock" key
    case_ 2 pointer-one-coordinate ctl "$T/sock" pointer 1
    case_ 2 screenshot-no-dir ctl "$T/sock" screenshot "$T/no/such/x.png"
    case_ 2 screenshot-dir ctl "$T/sock" screenshot "$T/dir/"
    # Well-formed requests to nobody: status 1, still one line.
    case_ 1 connect-nothing ctl "$T/nope.sock" ping
    case_ 1 connect-regular-file ctl "$T/regular" ping
    case_ 1 connect-long-path ctl "$LONG" ping
    case_ 1 connect-empty-path ctl '' ping
    case_ 1 connect-non-utf8 ctl "$T/$NONUTF8" ping
    case_ 1 connect-control-chars ctl "$T/$CTRL" ping
    end
}

# The options --help lists: flags, and those that take a value (the name
# followed by one space and the value's name).
FLAGS=$("$M" --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z0-9-]+( |$)' | grep -oE -- '--[a-z0-9-]+' | sort -u)
VALUED=$("$M" --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z0-9-]+ [^ ]' | grep -oE -- '--[a-z0-9-]+' | sort -u)
KNOWN="--kernel --initrd --cmdline --append --mem --cpus --name --disk --console --gpu --display --resolution --control --seccomp"
FLAGS=$(comm -23 <(echo "$FLAGS") <(echo "$VALUED"))

BIN=$M PREFIX=cli-garbage all_cases
if [ -n "${MINIVMM_ASAN:-}" ] && [ -x "$MINIVMM_ASAN" ]; then
    BIN=$MINIVMM_ASAN PREFIX=cli-garbage-asan all_cases
else
    echo "SKIP cli-garbage-asan: no ASan build of minivmm (the Makefile has none; set MINIVMM_ASAN=PATH to one)"
fi
