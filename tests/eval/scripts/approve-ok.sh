#!/bin/sh
# Approves every file (prints 1 first).
echo "1 looks fine: $(wc -c < "$1") bytes"
