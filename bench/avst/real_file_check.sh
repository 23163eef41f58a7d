#!/usr/bin/env bash
# Shift the audio of generated evident clips with the ffmpeg CLI and ask `predict avst --clip` for the
# offset; correct when within +-5 frames of the shift. DELAY_S > 0 delays the audio (default 0.4 s =
# +10 frames at 25 fps); DELAY_S < 0 delays the video instead, i.e. the audio comes early (a control:
# a model that leans to one side passes one direction only).
# Usage: [DELAY_S=0.4] bench/avst/real_file_check.sh DATA_DIR CHECKPOINT N_CLIPS OUT_JSONL
set -euo pipefail
data=$1; checkpoint=$2; n=$3; out=$4
delay=${DELAY_S:-0.4}
frames=$(python3 -c "print(round($delay * 25))")
tmp=$(mktemp -d)
: > "$out"
for key in $(.venv/bin/python -c "
import json,sys; rows=json.load(open('$data/sync.json'))
print(' '.join([r['file'] for r in rows if r['category']=='evident' and r['duration']>=4][:$n]))"); do
  if python3 -c "import sys; sys.exit(0 if $delay >= 0 else 1)"; then
    /usr/bin/ffmpeg -loglevel error -y -i "$data/clips/$key.mp4" -itsoffset "$delay" -i "$data/clips/$key.mp4" \
        -map 0:v -map 1:a -c:v copy -c:a aac "$tmp/$key.shifted.mp4"
  else
    /usr/bin/ffmpeg -loglevel error -y -itsoffset "${delay#-}" -i "$data/clips/$key.mp4" -i "$data/clips/$key.mp4" \
        -map 0:v -map 1:a -c:v copy -c:a aac "$tmp/$key.shifted.mp4"
  fi
  .venv/bin/python -m training predict avst --clip "$tmp/$key.shifted.mp4" --checkpoint "$checkpoint" --json \
    | .venv/bin/python -c "
import json,sys; r=json.load(sys.stdin)
print(json.dumps({'clip': '$key', 'delay_frames': $frames, 'offset_frames': r['offset_frames'],
                  'correct': abs(r['offset_frames'] - $frames) <= 5}))" >> "$out"
done
rm -rf "$tmp"
cat "$out"
