return [==[
# The working-day calendar of the People's Republic of China for 2026:
# the State Council General Office's notice on the 2026 holiday arrangement
# (国务院办公厅关于2026年部分节假日安排的通知, 2025-11-04).
#
# Format (docs/legal.md, "The calendar"): one directive per line, "#" starts
# a comment.
#   year YYYY                      the year this file is for (first line)
#   status official|provisional    provisional: logged as a warning at load
#   YYYY-MM-DD holiday NAME        a day off (放假), weekday or weekend
#   YYYY-MM-DD workday NAME        a weekend day worked (调休上班)
# Every other day: Monday to Friday are working days, Saturday and Sunday
# are not.
year 2026
status official
# 元旦: 1月1日(周四)至3日(周六)放假调休，1月4日(周日)上班
2026-01-01 holiday 元旦
2026-01-02 holiday 元旦
2026-01-03 holiday 元旦
2026-01-04 workday 元旦调休
# 春节: 2月15日(周日)至23日(周一)放假调休，共9天；2月14日(周六)、2月28日(周六)上班
2026-02-14 workday 春节调休
2026-02-15 holiday 春节
2026-02-16 holiday 春节
2026-02-17 holiday 春节
2026-02-18 holiday 春节
2026-02-19 holiday 春节
2026-02-20 holiday 春节
2026-02-21 holiday 春节
2026-02-22 holiday 春节
2026-02-23 holiday 春节
2026-02-28 workday 春节调休
# 清明节: 4月4日(周六)至6日(周一)放假，共3天
2026-04-04 holiday 清明节
2026-04-05 holiday 清明节
2026-04-06 holiday 清明节
# 劳动节: 5月1日(周五)至5日(周二)放假调休，共5天；5月9日(周六)上班
2026-05-01 holiday 劳动节
2026-05-02 holiday 劳动节
2026-05-03 holiday 劳动节
2026-05-04 holiday 劳动节
2026-05-05 holiday 劳动节
2026-05-09 workday 劳动节调休
# 端午节: 6月19日(周五)至21日(周日)放假，共3天
2026-06-19 holiday 端午节
2026-06-20 holiday 端午节
2026-06-21 holiday 端午节
# 中秋节: 9月25日(周五)至27日(周日)放假，共3天
2026-09-25 holiday 中秋节
2026-09-26 holiday 中秋节
2026-09-27 holiday 中秋节
# 国庆节: 10月1日(周四)至7日(周三)放假调休，共7天；9月20日(周日)、10月10日(周六)上班
2026-09-20 workday 国庆节调休
2026-10-01 holiday 国庆节
2026-10-02 holiday 国庆节
2026-10-03 holiday 国庆节
2026-10-04 holiday 国庆节
2026-10-05 holiday 国庆节
2026-10-06 holiday 国庆节
2026-10-07 holiday 国庆节
2026-10-10 workday 国庆节调休
]==]
