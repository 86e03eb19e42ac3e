#!/bin/sh
# Gradescope runs this once, as root, when it builds the autograder image.
# The zip holds this repository; Gradescope unpacks it to /autograder/source.
set -eu
cd /autograder/source
make setup
# Build the test guests, device trees and Linux now, not once per submission.
make support
