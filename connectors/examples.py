"""One valid native record per channel, as the channel's system sends it.

Shipped with the package (not hidden in tests) because the golden tests, the
benchmark, the HTTP API's OpenAPI examples and docs/channels.md all need the same
realistic record, and one definition keeps them honest.
"""

from __future__ import annotations

HOTLINE_12345 = (
    '{"orderNum":"SH12345-20261101-000123","callTime":"2026-11-01 08:15:30","callerName":"张三",'
    '"callerPhone":"+86 138 0013 5678","sourceType":"phone","appealType":"投诉","questionCode":"QA0603",'
    '"questionName":"路灯不亮","content":"张杨路500号附近路灯不亮，晚上一片黑。","address":"浦东新区张杨路500号",'
    '"district":"浦东","isSecret":"0","handleDays":5,"urgency":"一般","oldOrderNum":"SH12345-20261020-000077",'
    '"addressPoints":"121.5245,31.2286"}'
).encode()

URBAN_12319 = (
    "<case><caseCode>12319-310115-20261101-0042</caseCode><recType>事件</recType>"
    "<mainTypeCode>01</mainTypeCode><mainTypeName>市容环境</mainTypeName>"
    "<subTypeCode>0102</subTypeCode><subTypeName>暴露垃圾</subTypeName>"
    "<represent>张杨路500号门口垃圾堆放两天无人清运</represent><location>浦东新区张杨路500号</location>"
    "<gridCode>31011500300201</gridCode><x>121.5290</x><y>31.2267</y><eventSource>公众举报</eventSource>"
    "<reporterPhone>13900001111</reporterPhone><reportTime>2026-11-01 09:00:00</reportTime>"
    "<timeLimit>4工作时</timeLimit></case>"
).encode()

PROPERTY_962121 = (
    "工单编号,报修时间,小区名称,楼号,室号,联系电话,报修类别,报修内容,物业公司,街道,区\r\n"
    "962121-20261101-0007,2026/11/1 8:15,锦绣苑,12号楼,1502,13700002222,漏水,"
    "楼上卫生间漏水到我家天花板,上海锦绣物业管理有限公司,花木街道,\r\n"
).encode("gbk")

GRID = (
    '{"eventId":"GE-20261101-0815-0001","gridCode":"31011500300201","reportPerson":"W3101150031",'
    '"eventTypeCode":"G0601","eventTypeName":"路灯损坏","description":"张杨路500号路灯不亮",'
    '"address":"张杨路500号","gpsx":121.5290,"gpsy":31.2267,"happenTime":1793492130000,"level":1,'
    '"photoUrls":["https://grid.example/p/1.jpg"],"filingOnly":false,"isPainSpot":true}'
).encode()

#: Channel name → one valid raw record.
RAW: dict[str, bytes] = {
    "12345": HOTLINE_12345,
    "12319": URBAN_12319,
    "962121": PROPERTY_962121,
    "grid": GRID,
}
