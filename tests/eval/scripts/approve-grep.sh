#!/bin/sh
# Rejects files containing the word EVIL.
if grep -q EVIL "$1"; then echo "0 evil content found"; else echo "1 clean"; fi
