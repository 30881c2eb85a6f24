# Writes OUT, a C file defining `const char NAME[]` with the bytes of IN
# and a final NUL: the page's script and style (cli/report.js, .css) stay
# real files that editors and linters understand.
#   cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed.cmake
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){20})" "\\1\n" body "${body}")
file(WRITE "${OUT}" "/* Generated from ${IN} by cmake/embed.cmake: do not edit. */\n"
                    "const char ${NAME}[] = {\n${body}0x00};\n")
