#!/bin/sh
# Hangs: the approval timeout must reject the upload.
sleep 30
echo 1
