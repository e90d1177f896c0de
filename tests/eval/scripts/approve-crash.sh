#!/bin/sh
# Crashes with a signal after printing 1: a crash rejects.
echo 1
kill -SEGV $$
