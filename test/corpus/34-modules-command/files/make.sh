#!/bin/sh
# writes its arguments into a file
out="$1"; shift
echo "script args: $*" > "$out"
echo "script done"
