# Sourced by the example tests: random IDX data sets in Fashion-MNIST's file layout.
# idx_split <folder> <name> <count>: <folder>/<name>-images-idx3-ubyte.gz (count random 28x28
# images) and <name>-labels-idx1-ubyte.gz (random labels 0..9).
be32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
idx_split() {
  mkdir -p "$1"
  { printf '\x00\x00\x08\x03'; be32 "$3"; be32 28; be32 28; head -c $(($3 * 784)) /dev/urandom; } |
    gzip > "$1/$2-images-idx3-ubyte.gz"
  { printf '\x00\x00\x08\x01'; be32 "$3"; head -c "$3" /dev/urandom | od -An -v -tu1 |
      tr -s ' ' '\n' | grep . | while read -r b; do printf "\\x$(printf %02x $((b % 10)))"; done; } |
    gzip > "$1/$2-labels-idx1-ubyte.gz"
}
