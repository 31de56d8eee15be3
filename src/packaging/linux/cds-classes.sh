#!/bin/sh
# Lists the classes the explorer loads from its start to its first counterfactual on screen (its self-test on
# the packaged files in target/package), as target/package/cds-classes.lst. The .deb's postinst makes a
# class-data-sharing archive of them for the installed paths: the installed app then maps those classes
# instead of loading them one by one, and starts sooner. Needs a display (or xvfb-run); without one the
# package is built without the list, and the app starts without the archive, as before.
set -e
pkg=target/package
list="$pkg/cds-classes.lst"
rm -f "$list"
if [ -n "${DISPLAY:-}" ]; then
  run=""
elif command -v xvfb-run >/dev/null 2>&1; then
  run="xvfb-run -a"
else
  echo "no display and no xvfb-run: the package is built without a class list (the app starts without class-data sharing)"
  exit 0
fi
# the installed app's options (jpackage.cfg), so that the same classes load
if ! $run java -Xmx4g -XX:TieredStopAtLevel=1 -Dai.djl.offline=true -XX:DumpLoadedClassList="$pkg/cds-all.lst" \
  -cp "$pkg/deepscm-explorer.jar:$pkg/lib/*" org.deepscm.Launcher --self-test target/cds-self-test.png; then
  # e.g. no GTK 3 on the build machine: an optional speed-up must not stop the build
  echo "WARNING: the explorer's self-test did not run here (message above): the package is built without a class list (the app starts without class-data sharing)"
  rm -f "$pkg/cds-all.lst"
  exit 0
fi
# without the lambda proxies: JDK 17's static dump crashes on some of them
# (SystemDictionaryShared::adjust_lambda_proxy_class_dictionary); the classes themselves are kept
grep -v '^@lambda-proxy' "$pkg/cds-all.lst" > "$list"
rm -f "$pkg/cds-all.lst"
echo "class list for class-data sharing: $(wc -l < "$list") classes in $list"
