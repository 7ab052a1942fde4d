return [==[
# The working-day calendar of the People's Republic of China for 2027,
# PROVISIONAL: the statutory holidays of the 全国年节及纪念日放假办法 (2024
# revision: 元旦 1 day, 春节 4 days from 除夕, 清明节 1, 劳动节 2, 端午节 1,
# 中秋节 1, 国庆节 3) on their 2027 dates, without the 调休 arrangement,
# which the State Council announces each year. Replace this file with the
# year's notice (国务院办公厅关于2027年部分节假日安排的通知) and set
# "status official"; until then the plugin logs a warning at start.
# Format: see cn_2026.lua and docs/legal.md.
year 2027
status provisional
2027-01-01 holiday 元旦
2027-02-05 holiday 春节（除夕）
2027-02-06 holiday 春节
2027-02-07 holiday 春节
2027-02-08 holiday 春节
2027-04-05 holiday 清明节
2027-05-01 holiday 劳动节
2027-05-02 holiday 劳动节
2027-06-09 holiday 端午节
2027-09-15 holiday 中秋节
2027-10-01 holiday 国庆节
2027-10-02 holiday 国庆节
2027-10-03 holiday 国庆节
]==]
