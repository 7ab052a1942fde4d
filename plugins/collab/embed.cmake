# cmake -DIN=catalog.cfg -DOUT=catalog_builtin.c -P embed.cmake: the file as
# the C string collab_catalog_builtin.
file(READ ${IN} text)
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "\n" "\\n\"\n\"" text "${text}")
file(WRITE ${OUT} "/* generated from config/collab-catalog.cfg */\nconst char collab_catalog_builtin[] =\n\"${text}\";\n")
