/// The carrier table that ships with Sparrow, used when a configuration names no `carriers`. It is the text of
/// `config/carriers/cn.yaml`, kept identical by a test.
enum BuiltinCarriers {
    static let china = """
        # China's four carriers by number prefix (MIIT allocations, including the 16x and 19x ranges, the 170x
        # virtual-operator blocks and 1349 / 1740x satellite numbers). Prefixes are national digits after +86; the
        # longest matching prefix wins. Rates are what a typical marketing account is allowed per carrier: set yours.
        carriers:
          - id: china-mobile
            name: 中国移动
            country_code: 86
            prefixes: [1340, 1341, 1342, 1343, 1344, 1345, 1346, 1347, 1348, 135, 136, 137, 138, 139, 147, 148,
                       150, 151, 152, 157, 158, 159, 165, 172, 178, 182, 183, 184, 187, 188, 195, 197, 198,
                       1703, 1705, 1706]
            rate: 500
            burst: 100
            unit: messages
          - id: china-unicom
            name: 中国联通
            country_code: 86
            prefixes: [130, 131, 132, 145, 146, 155, 156, 166, 167, 171, 175, 176, 185, 186, 196,
                       1704, 1707, 1708, 1709]
            rate: 500
            burst: 100
            unit: messages
          - id: china-telecom
            name: 中国电信
            country_code: 86
            prefixes: [133, 1349, 149, 153, 162, 173, 17400, 17401, 17402, 17403, 17404, 17405, 177, 180, 181, 189,
                       190, 191, 193, 199, 1700, 1701, 1702]
            rate: 500
            burst: 100
            unit: messages
          - id: china-broadnet
            name: 中国广电
            country_code: 86
            prefixes: [192]
            rate: 200
            burst: 50
            unit: messages

        """
}
