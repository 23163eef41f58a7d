#!/usr/bin/env bash
# Delay the audio of generated evident clips by 0.4 s (10 frames at 25 fps) with the ffmpeg CLI and
# ask `predict avst --clip` for the offset; correct when within +-5 frames of +10.
# Usage: bench/avst/real_file_check.sh DATA_DIR CHECKPOINT N_CLIPS OUT_JSONL
set -euo pipefail
data=$1; checkpoint=$2; n=$3; out=$4
tmp=$(mktemp -d)
: > "$out"
for key in $(.venv/bin/python -c "
import json,sys; rows=json.load(open('$data/sync.json'))
print(' '.join([r['file'] for r in rows if r['category']=='evident' and r['duration']>=4][:$n]))"); do
  /usr/bin/ffmpeg -loglevel error -y -i "$data/clips/$key.mp4" -itsoffset 0.4 -i "$data/clips/$key.mp4" \
      -map 0:v -map 1:a -c:v copy -c:a aac "$tmp/$key.delayed.mp4"
  .venv/bin/python -m training predict avst --clip "$tmp/$key.delayed.mp4" --checkpoint "$checkpoint" --json \
    | .venv/bin/python -c "
import json,sys; r=json.load(sys.stdin)
print(json.dumps({'clip': '$key', 'delay_frames': 10, 'offset_frames': r['offset_frames'],
                  'correct': abs(r['offset_frames'] - 10) <= 5}))" >> "$out"
done
rm -rf "$tmp"
cat "$out"
